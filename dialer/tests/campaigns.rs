//! Campaigns on a real store: create, copy, update, lifecycle, assignments and dispositions.

use chrono::Utc;
use paceline_dialer::Db;
use paceline_dialer::campaign::store::{self as campaigns, CampaignError};
use paceline_dialer::campaign::{CampaignConfig, CampaignKind, CampaignStatus, DialMode, LifecycleStep};
use paceline_dialer::disposition::NextStep;
use paceline_dialer::store::testing::TestDb;
use paceline_dialer::users::{self, NewUser, Role};

const CONFIG: &str = r#"
kind = "survey"
agents = ["ann"]
teams = ["north"]
dial_mode = "predictive"
allowed_dial_modes = ["preview", "predictive"]
caller_id = "+12125550100"
recording = true
default_country = "US"
max_attempts = 8
[abandon]
ceiling = 0.02
window_hours = 24
[calling_hours]
days = ["mon", "tue", "wed", "thu", "fri"]
ranges = ["09:00-20:00"]
holidays = ["2026-12-25"]
[[fields]]
name = "phone"
type = "phone"
required = true
"#;

async fn setup(db: &Db) {
    users::add_team(db, "north", Utc::now()).await.unwrap();
    let ann = NewUser {
        login: "ann".into(),
        display_name: "Ann".into(),
        password: "correct horse".into(),
        roles: vec![Role::Agent],
        teams: vec![],
        skills: vec![],
    };
    users::add_user(db, &ann, Utc::now()).await.unwrap();
}

#[tokio::test]
async fn a_campaign_goes_through_its_life() {
    let test = TestDb::new().await;
    let db = &test.db;
    setup(db).await;
    let config = CampaignConfig::from_toml(CONFIG).unwrap();
    let campaign = campaigns::create(db, "Health 2026", CampaignKind::Survey, &config, Utc::now())
        .await
        .unwrap();
    assert_eq!(campaign.status, CampaignStatus::Draft);
    assert_eq!(campaign.agents, ["ann"]);
    assert_eq!(campaign.teams, ["north"]);
    assert_eq!(
        campaign.settings.dial_modes(),
        [DialMode::Preview, DialMode::Predictive]
    );
    let set = campaigns::dispositions(db, campaign.id).await.unwrap();
    assert_eq!(set[0].code, "complete");
    assert_eq!(set[0].aapor, "1.1");
    assert!(set.iter().any(|d| d.next == NextStep::DoNotCall));

    let mut status = campaign.status;
    for step in [
        LifecycleStep::Publish,
        LifecycleStep::Start,
        LifecycleStep::Pause,
        LifecycleStep::Resume,
        LifecycleStep::Close,
    ] {
        status = campaigns::step(db, "Health 2026", step, None, Utc::now())
            .await
            .unwrap()
            .status;
    }
    assert_eq!(status, CampaignStatus::Closed);
    let err = campaigns::step(db, "Health 2026", LifecycleStep::Resume, None, Utc::now())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot resume a campaign that is closed; a closed campaign can be copied into a new one"
    );
    let err = campaigns::update(db, "Health 2026", &config, Utc::now())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "campaign 'Health 2026' is closed; copy it to run it again"
    );

    // A copy is a new draft with the same settings, assignments and dispositions.
    let copy = campaigns::copy(db, "Health 2026", "Health 2027", Utc::now())
        .await
        .unwrap();
    assert_eq!(copy.status, CampaignStatus::Draft);
    assert_eq!(copy.settings, campaign.settings);
    assert_eq!(
        (copy.agents.clone(), copy.teams.clone()),
        (campaign.agents.clone(), campaign.teams.clone())
    );
    assert_eq!(copy.copied_from, Some(campaign.id));
    assert_eq!(campaigns::dispositions(db, copy.id).await.unwrap(), set);
    let listed = campaigns::list(db).await.unwrap();
    assert_eq!(
        listed.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["Health 2026", "Health 2027"]
    );
}

#[tokio::test]
async fn publishing_needs_complete_settings() {
    let test = TestDb::new().await;
    let db = &test.db;
    let draft = campaigns::create(
        db,
        "bare",
        CampaignKind::Reminder,
        &CampaignConfig::default(),
        Utc::now(),
    )
    .await
    .unwrap();
    let err = campaigns::step(db, "bare", LifecycleStep::Publish, None, Utc::now())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the settings have 2 problem(s):\n  - caller_id: a published campaign needs a caller ID to show to called persons\n  - fields: a published campaign needs at least one field of type phone"
    );
    assert_eq!(
        campaigns::find(db, &draft.id.to_string()).await.unwrap().status,
        CampaignStatus::Draft
    );
    let err = campaigns::step(db, "bare", LifecycleStep::Start, None, Utc::now())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot start a campaign that is draft; publish it first"
    );
}

#[tokio::test]
async fn bad_campaigns_are_refused_and_nothing_is_stored() {
    let test = TestDb::new().await;
    let db = &test.db;
    setup(db).await;
    let mut config = CampaignConfig::from_toml(CONFIG).unwrap();
    config.settings.abandon.ceiling = 0.05;
    let err = campaigns::create(db, "x", CampaignKind::Survey, &config, Utc::now())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("abandon.ceiling: 0.05 is outside 0 to 0.03"),
        "{err}"
    );

    let mut config = CampaignConfig::from_toml(CONFIG).unwrap();
    config.agents.push("ghost".into());
    let err = campaigns::create(db, "x", CampaignKind::Survey, &config, Utc::now())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "cannot assign 'ghost': no agent has this login");
    assert!(
        matches!(campaigns::find(db, "x").await, Err(CampaignError::NotFound(_))),
        "half-created campaign left"
    );

    let config = CampaignConfig::from_toml(CONFIG).unwrap();
    campaigns::create(db, "x", CampaignKind::Survey, &config, Utc::now())
        .await
        .unwrap();
    let err = campaigns::create(db, "x", CampaignKind::Survey, &config, Utc::now())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "a campaign named 'x' already exists");
    let err = campaigns::create(db, "42", CampaignKind::Survey, &config, Utc::now())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "campaign name '42' is not allowed: it must not be a number, which would read as a campaign id"
    );

    // A failed update leaves the old settings, assignments and dispositions in place.
    let mut bad = CampaignConfig::from_toml(CONFIG).unwrap();
    bad.teams = vec!["nowhere".into()];
    bad.settings.max_attempts = 3;
    let err = campaigns::update(db, "x", &bad, Utc::now()).await.unwrap_err();
    assert_eq!(err.to_string(), "cannot assign team 'nowhere': no team has this name");
    let kept = campaigns::find(db, "x").await.unwrap();
    assert_eq!(
        (kept.settings.max_attempts, kept.teams.clone()),
        (8, vec!["north".to_string()])
    );
    assert!(!campaigns::dispositions(db, kept.id).await.unwrap().is_empty());
}
