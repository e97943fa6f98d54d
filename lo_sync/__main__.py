from lo_sync.cli import main

main()
