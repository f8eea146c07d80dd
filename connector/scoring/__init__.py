"""The scoring core: rules schema and engine. Pure: no I/O, no CRM SDKs."""

from connector.scoring.engine import CompiledRules, compile_rules, score

__all__ = ["CompiledRules", "compile_rules", "score"]
