"""The ``time`` provider: time_sleep, time_static, time_rotating and time_offset, as hashicorp/time."""
