"""Personal data in the core (个人信息保护): validation of identifiers, encryption at rest
with a key ring, blind indexes and key rotation. Plugins use it through ``core.api``."""
