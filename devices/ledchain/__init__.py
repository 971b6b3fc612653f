"""Field compatibility: chained LED boards, 01 ADDR <text> 07 with pacing."""
