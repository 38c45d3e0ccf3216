from crm_cli.cli import main

main()
