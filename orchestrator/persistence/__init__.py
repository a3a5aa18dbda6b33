"""SQLAlchemy 2.x persistence: typed rows, repositories to and from the domain."""
