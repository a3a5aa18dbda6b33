"""Plain dataclasses and rules of procedure; standard library only."""
