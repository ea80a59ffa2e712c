from voceunica.cli import main

main()
