"""Tags: the tag file's taxonomy and kinds (``spec``) and behaviour-sequence tags as SQL (``behaviour``)."""

from segmark.core.tags.behaviour import behaviour_sql, parse_evidence
from segmark.core.tags.spec import KINDS, TagFile, TagFileError, TagSpec, TagValue, load_yaml, parse_tag_file

__all__ = ["KINDS", "TagFile", "TagFileError", "TagSpec", "TagValue", "behaviour_sql", "load_yaml",
           "parse_evidence", "parse_tag_file"]
