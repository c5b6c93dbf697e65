"""Messages of ingestion (``segmark ingest``, the ingest steps of ``segmark run``)."""

MESSAGES: dict[str, tuple[str, str]] = {
    "ingest.no_rows": (
        "no {table} rows: the input holds no data rows",
        "没有{table}数据行：输入中没有任何数据行",
    ),
    "ingest.nothing_accepted": (
        "none of the {n:,} {table} rows was accepted ({reasons}); see them with segmark status --quarantine",
        "{n:,} 行{table}数据无一被接受（{reasons}）；用 segmark status --quarantine 查看",
    ),
    "ingest.skipped": (
        "left out as not data: {files}",
        "非数据文件，已跳过：{files}",
    ),
    "ingest.columns_not_used": (
        "columns not used: {columns}",
        "未使用的列：{columns}",
    ),
}
