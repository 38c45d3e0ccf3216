"""Option texts shared by several commands (kept here so importing the CLI stays cheap)."""

DIRECTION_HELP = "ecletech_para_crm (ERP → CRM, default) or crm_para_ecletech (CRM → ERP)."
