"""Service functions: keyword-only, typed; they hold the transactions and the dispatcher's lock."""
