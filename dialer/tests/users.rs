//! Users, roles, teams and skills on a real store.

use chrono::Utc;
use paceline_dialer::store::testing::TestDb;
use paceline_dialer::users::{self, NewUser, Role, Skill, UserError};

fn new_user(login: &str, roles: &[Role]) -> NewUser {
    NewUser {
        login: login.into(),
        display_name: format!("{login} name"),
        password: "correct horse".into(),
        roles: roles.to_vec(),
        teams: vec![],
        skills: vec![],
    }
}

#[tokio::test]
async fn users_hold_roles_teams_and_skills() {
    let test = TestDb::new().await;
    let db = &test.db;
    users::add_team(db, "north", Utc::now()).await.unwrap();
    let mut ann = new_user("ann", &[Role::Agent, Role::Supervisor, Role::Agent]);
    ann.teams = vec!["north".into()];
    ann.skills = vec!["english=90".parse::<Skill>().unwrap(), "spanish=40".parse().unwrap()];
    let stored = users::add_user(db, &ann, Utc::now()).await.unwrap();
    assert_eq!(stored.roles, [Role::Agent, Role::Supervisor]);
    assert_eq!(stored.teams, ["north"]);
    assert_eq!(
        stored
            .skills
            .iter()
            .map(|s| (s.name.as_str(), s.level))
            .collect::<Vec<_>>(),
        [("english", 90), ("spanish", 40)]
    );
    assert_eq!(users::list_teams(db).await.unwrap()[0].members, ["ann"]);
}

#[tokio::test]
async fn passwords_are_hashed_and_verified() {
    let test = TestDb::new().await;
    let db = &test.db;
    users::add_user(db, &new_user("ann", &[Role::Agent]), Utc::now())
        .await
        .unwrap();
    assert!(
        users::verify_password(db, "ann", "correct horse")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        users::verify_password(db, "ann", "wrong horse")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        users::verify_password(db, "nobody", "correct horse")
            .await
            .unwrap()
            .is_none()
    );
    users::set_password(db, "ann", "battery staple", Utc::now())
        .await
        .unwrap();
    assert!(
        users::verify_password(db, "ann", "correct horse")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        users::verify_password(db, "ann", "battery staple")
            .await
            .unwrap()
            .is_some()
    );
    let hash: String = match db {
        paceline_dialer::Db::Sqlite(p) => sqlx::query_scalar("SELECT password_hash FROM users")
            .fetch_one(p)
            .await
            .unwrap(),
        paceline_dialer::Db::Postgres(p) => sqlx::query_scalar("SELECT password_hash FROM users")
            .fetch_one(p)
            .await
            .unwrap(),
    };
    assert!(hash.starts_with("$argon2id$"), "{hash}");
}

#[tokio::test]
async fn bad_users_are_refused_and_nothing_is_stored() {
    let test = TestDb::new().await;
    let db = &test.db;
    users::add_user(db, &new_user("ann", &[Role::Agent]), Utc::now())
        .await
        .unwrap();
    let err = users::add_user(db, &new_user("ann", &[Role::Analyst]), Utc::now())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "login 'ann' is already taken");

    let mut short = new_user("bob", &[Role::Agent]);
    short.password = "short".into();
    let err = users::add_user(db, &short, Utc::now()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "the password is too short: it needs at least 8 characters"
    );

    let err = users::add_user(db, &new_user("bob", &[]), Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(err, UserError::NoRoles));

    // An unknown team fails the whole user: no half-created user remains.
    let mut teamless = new_user("bob", &[Role::Agent]);
    teamless.teams = vec!["nowhere".into()];
    let err = users::add_user(db, &teamless, Utc::now()).await.unwrap_err();
    assert_eq!(err.to_string(), "no team named 'nowhere'");
    assert!(users::find_user(db, "bob").await.unwrap().is_none());

    let err = users::set_password(db, "nobody", "long enough", Utc::now())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "no user with login 'nobody'");
    users::add_team(db, "north", Utc::now()).await.unwrap();
    let err = users::add_team(db, "north", Utc::now()).await.unwrap_err();
    assert_eq!(err.to_string(), "a team named 'north' already exists");
    assert_eq!(users::list_users(db).await.unwrap().len(), 1);
}

#[tokio::test]
async fn team_members_roles_and_disabling_change_in_place() {
    let test = TestDb::new().await;
    let db = &test.db;
    users::add_team(db, "north", Utc::now()).await.unwrap();
    users::add_user(db, &new_user("ann", &[Role::Agent]), Utc::now())
        .await
        .unwrap();
    assert!(users::set_team_member(db, "north", "ann", true).await.unwrap());
    assert!(
        !users::set_team_member(db, "north", "ann", true).await.unwrap(),
        "already in"
    );
    assert_eq!(users::list_teams(db).await.unwrap()[0].members, ["ann"]);
    assert!(users::set_team_member(db, "north", "ann", false).await.unwrap());
    assert!(users::list_teams(db).await.unwrap()[0].members.is_empty());
    assert!(matches!(
        users::set_team_member(db, "south", "ann", true).await,
        Err(UserError::UnknownTeam(t)) if t == "south"
    ));
    assert!(matches!(
        users::set_team_member(db, "north", "bo", true).await,
        Err(UserError::UnknownUser(l)) if l == "bo"
    ));

    let ann = users::set_roles(db, "ann", &[Role::Supervisor, Role::Agent, Role::Supervisor])
        .await
        .unwrap();
    assert_eq!(ann.roles, [Role::Agent, Role::Supervisor]);
    assert!(matches!(
        users::set_roles(db, "ann", &[]).await,
        Err(UserError::NoRoles)
    ));
    assert_eq!(users::find_user(db, "ann").await.unwrap().unwrap().roles.len(), 2);

    users::set_active(db, "ann", false).await.unwrap();
    assert!(
        users::verify_password(db, "ann", "correct horse")
            .await
            .unwrap()
            .is_none()
    );
    assert!(!users::find_user(db, "ann").await.unwrap().unwrap().active);
    users::set_active(db, "ann", true).await.unwrap();
    assert!(
        users::verify_password(db, "ann", "correct horse")
            .await
            .unwrap()
            .is_some()
    );
    assert!(matches!(
        users::set_active(db, "bo", false).await,
        Err(UserError::UnknownUser(_))
    ));
}
