"""Business rules. Plain functions over a SQLAlchemy session: no Flask request, no templates."""
