"""The display controller: RS-485 buses, LED boards, evaluators, keypads, voice."""
