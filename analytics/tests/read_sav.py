"""Reads an SPSS .sav file with pyreadstat (an independent reader, ReadStat underneath) and
prints what it saw as JSON, for the `.sav` writer's tests in analytics/src/sav.rs.

Usage: python3 read_sav.py FILE.sav
"""

import datetime
import json
import math
import sys

try:
    import pyreadstat
except ImportError:
    sys.exit("pyreadstat is not installed: run `pip install pyreadstat`")


def plain(value):
    """A cell as JSON: dates in ISO form, NaN (missing) as null."""
    if value is None:
        return None
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if hasattr(value, "item"):  # a numpy scalar
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def columns(path, user_missing):
    data, meta = pyreadstat.read_sav(path, user_missing=user_missing, output_format="dict")
    return [[plain(v) for v in data[name]] for name in meta.column_names], meta


def main(path):
    cols, meta = columns(path, user_missing=True)
    without, _ = columns(path, user_missing=False)
    names = meta.column_names
    print(json.dumps({
        "file_label": meta.file_label,
        "encoding": meta.file_encoding,
        "rows": meta.number_rows,
        "names": names,
        "labels": meta.column_labels,
        "formats": [meta.original_variable_types[n] for n in names],
        "measures": [meta.variable_measure[n] for n in names],
        "value_labels": {
            name: sorted([code, label] for code, label in labels.items())
            for name, labels in meta.variable_value_labels.items()
        },
        "missing": meta.missing_ranges,
        "values": [list(row) for row in zip(*cols)],
        "satisfaction_overall_without_user_missing": without[0] if names[0] == "satisfaction_overall" else None,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
