//! YAML reader built from saphyr-parser events.
