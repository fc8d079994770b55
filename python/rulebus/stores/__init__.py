"""Where the services' state lives: the store interface and its memory and SQLite backends."""
