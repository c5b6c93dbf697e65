"""Tags: the tag file's taxonomy and kinds (``spec``), behaviour-sequence tags as SQL (``behaviour``) and
the allow-list check of SQL tags (``sql``)."""

from segmark.core.tags.behaviour import behaviour_sql, parse_evidence
from segmark.core.tags.spec import KINDS, TagFile, TagFileError, TagSpec, TagValue, load_yaml, parse_tag_file
from segmark.core.tags.sql import CheckedSql, TagSqlError, check_tag_sql

__all__ = ["KINDS", "CheckedSql", "TagFile", "TagFileError", "TagSpec", "TagSqlError", "TagValue", "behaviour_sql",
           "check_tag_sql", "load_yaml", "parse_evidence", "parse_tag_file"]
