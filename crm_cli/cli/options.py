"""Option texts shared by several commands (kept here so importing the CLI stays cheap)."""

DIRECTION_HELP = "ecletech_para_crm (ERP → CRM, default) or crm_para_ecletech (CRM → ERP)."

# The widest id the tables hold (INT columns): a larger one is a typo, refused
# as a usage error before any statement overflows.
MAX_ID = 2**31 - 1
MAX_DAYS = 36_500  # cleanup's --queue-days / --log-days: a century
