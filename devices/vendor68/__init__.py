"""Field compatibility: the vendor caller/evaluator frame FF 68 LEN LEN 68 ADDR FUNC DATA CS 16."""
