"""Student status (STU-1..3): apply with school details, confirm with a code sent to the school e-mail."""
