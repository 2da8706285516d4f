"""The filter language: text -> typed AST -> SQLAlchemy expression with bound parameters."""
