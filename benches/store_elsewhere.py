"""Read a deskpulse ticket store with engines other than DuckDB, and check what they read.

    python3 benches/store_elsewhere.py STORE KPIS.json START END

KPIS.json is `deskpulse kpis CONFIG --store STORE --period P --format json` of the same store;
START and END (exclusive) are the period's bounds: instants such as 2026-10-01T00:00:00+02:00,
or dates, read as midnight UTC (2026-10-01 2026-11-01 for October where the timezone is UTC).

Each engine that is installed (DataFusion: `pip install datafusion`; Spark: `pip install
pyspark`, with a Java runtime) reads STORE/tickets by its Hive partitions and must find
- the columns of docs/store.md's `tickets` table, and the partition columns as text;
- as many tickets and status changes as the store's manifest.json says it holds;
- the KPIs of the period that plain SQL computes: tickets created, tickets resolved, the mean
  time to resolve in hours, and the help desk's own SLA verdict, equal to KPIS.json's.
Exit 1 on a difference, 2 when no engine is installed.
"""

import json
import pathlib
import re
import sys

store, kpis_path, start, end = sys.argv[1:5]
start, end = (f"{b}T00:00:00Z" if len(b) == 10 else b for b in (start, end))
manifest_rows = json.load(open(f"{store}/manifest.json"))["rows"]
docs = pathlib.Path(__file__).resolve().parent.parent / "docs" / "store.md"


def documented_columns():
    """docs/store.md's `tickets` columns, in order, with their DuckDB types."""
    text = docs.read_text()
    table = text.split("<!-- schema: tickets -->", 1)[1].split("\n\n", 1)[0]
    return [
        (m.group(1), m.group(2))
        for m in re.finditer(r"^\| `([a-z_]+)` \| ([A-Z ]+) \|", table, re.M)
    ]


# How each engine names the DuckDB types of the documented schema. Spark has no unsigned
# integers: it widens UINTEGER to bigint and UBIGINT to decimal(20,0).
DATAFUSION_TYPES = {
    "VARCHAR": ("string", "string_view", "large_string"),
    "TIMESTAMP WITH TIME ZONE": ("timestamp[us, tz=UTC]",),
    "UINTEGER": ("uint32",),
    "UBIGINT": ("uint64",),
    "DOUBLE": ("double",),
    "BOOLEAN": ("bool",),
}
SPARK_TYPES = {
    "VARCHAR": ("string",),
    "TIMESTAMP WITH TIME ZONE": ("timestamp",),
    "UINTEGER": ("bigint",),
    "UBIGINT": ("decimal(20,0)",),
    "DOUBLE": ("double",),
    "BOOLEAN": ("boolean",),
}
PARTITIONS = ("source", "created_month")


def expected():
    """kpis.json's figures for all tickets, of the KPIs this script computes and it has."""
    rows = json.load(open(kpis_path))["kpis"]
    wanted = {
        "tickets_created": ("tickets_created", "value"),
        "tickets_resolved": ("tickets_resolved", "value"),
        "mttr_hours_mean": ("mttr_hours", "mean"),
        "source_sla_met_pct": ("source_sla_met_pct", "value"),
    }
    found = {}
    for name, (kpi, stat) in wanted.items():
        for r in rows:
            if (r["kpi"], r["stat"], r["dimension"]) == (kpi, stat, "all") and r["value"] is not None:
                found[name] = round(r["value"], 6) if name.endswith(("_mean", "_pct")) else r["value"]
    return found


# The contract's definitions (docs/kpis.md): cancelled tickets count nowhere; created counts
# every kind, resolved and the help desk's verdict service tickets (incidents and requests), the
# mean time to resolve incidents. `{hours}` is `hours_sql` in the engine's words.
KPI_SQL = f"""
SELECT
  sum(CASE WHEN created THEN 1 ELSE 0 END) AS tickets_created,
  sum(CASE WHEN resolved AND service THEN 1 ELSE 0 END) AS tickets_resolved,
  avg(CASE WHEN resolved AND kind = 'incident' THEN hours END) AS mttr_hours_mean,
  100.0 * sum(CASE WHEN resolved AND service AND source_sla_met THEN 1 ELSE 0 END)
    / sum(CASE WHEN resolved AND service AND source_sla_met IS NOT NULL THEN 1 ELSE 0 END)
    AS source_sla_met_pct
FROM (
  SELECT kind, source_sla_met,
    kind IN ('incident', 'request') AS service,
    created_at >= TIMESTAMP '{start}' AND created_at < TIMESTAMP '{end}' AS created,
    resolved_at >= TIMESTAMP '{start}' AND resolved_at < TIMESTAMP '{end}' AS resolved,
    {{hours}} AS hours
  FROM tickets
  WHERE status IS NULL OR status <> 'cancelled'
) t
"""


def hours_sql(micros):
    """Hours from creation to resolution; `micros` is the engine's expression for an instant's
    microseconds since the epoch, with `{}` for the instant."""
    return f"({micros.format('resolved_at')} - {micros.format('created_at')}) / 3600000000.0"


def compare(engine, columns, type_names, rows, kpis):
    """`columns`: (name, type) as the engine read them; `type_names`: its names of DuckDB's;
    `rows`: how many rows of each table it read."""
    problems = []
    for table, n in rows.items():
        if n != manifest_rows.get(table, 0):
            problems.append(f"{n} rows of {table}, where manifest.json has {manifest_rows.get(table, 0)}")
    read = dict(columns)
    for name, duck in documented_columns():
        allowed = ("string", "dictionary<values=string") if name in PARTITIONS else type_names[duck]
        if name not in read:
            problems.append(f"no column {name}")
        elif not read[name].startswith(allowed):
            problems.append(f"{name} is read as {read[name]}, not as {duck} ({' or '.join(allowed)})")
    extra = set(read) - {name for name, _ in documented_columns()}
    if extra:
        problems.append(f"columns the docs do not name: {sorted(extra)}")
    got = {
        k: round(float(v), 6) if k.endswith(("_mean", "_pct")) else v
        for k, v in kpis.items()
        if k in expected()
    }
    if got != expected():
        problems.append(f"KPIs {got} differ from kpis.json's {expected()}")
    for p in problems:
        print(f"{engine}: {p}")
    if not problems:
        print(
            f"{engine}: {len(columns)} columns as documented; rows as manifest.json has them "
            f"({rows}); KPIs equal kpis.json's: {got}"
        )
    return not problems


def datafusion_reads():
    import datafusion

    ctx = datafusion.SessionContext()
    ctx.sql(
        f"CREATE EXTERNAL TABLE tickets STORED AS PARQUET "
        f"PARTITIONED BY (source, created_month) LOCATION '{store}/tickets/'"
    ).collect()
    schema = ctx.sql("SELECT * FROM tickets LIMIT 0").schema()
    columns = [(f.name, str(f.type)) for f in schema]
    rows = {"tickets": ctx.sql("SELECT count(*) AS n FROM tickets").to_pydict()["n"][0]}
    if pathlib.Path(store, "status_changes").is_dir():
        ctx.sql(
            f"CREATE EXTERNAL TABLE status_changes STORED AS PARQUET "
            f"PARTITIONED BY (source, month) LOCATION '{store}/status_changes/'"
        ).collect()
        count = ctx.sql("SELECT count(*) AS n FROM status_changes").to_pydict()["n"][0]
        rows["status_changes"] = count
    # The store's instants are microseconds: cast to BIGINT, that is what they give.
    row = ctx.sql(KPI_SQL.format(hours=hours_sql("CAST({} AS BIGINT)"))).to_pydict()
    kpis = {k: v[0] for k, v in row.items()}
    return compare(f"DataFusion {datafusion.__version__}", columns, DATAFUSION_TYPES, rows, kpis)


def spark_reads():
    import pyspark
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    frame = spark.read.parquet(f"{store}/tickets")
    frame.createOrReplaceTempView("tickets")
    columns = frame.dtypes
    rows = {"tickets": frame.count()}
    if pathlib.Path(store, "status_changes").is_dir():
        rows["status_changes"] = spark.read.parquet(f"{store}/status_changes").count()
    row = spark.sql(KPI_SQL.format(hours=hours_sql("unix_micros({})"))).collect()[0].asDict()
    spark.stop()
    return compare(f"Spark {pyspark.__version__}", columns, SPARK_TYPES, rows, row)


results = []
for engine, reads in (("datafusion", datafusion_reads), ("pyspark", spark_reads)):
    try:
        __import__(engine)
    except ImportError:
        print(f"{engine}: not installed, not checked")
        continue
    results.append(reads())
if not results:
    sys.exit(2)
sys.exit(0 if all(results) else 1)
