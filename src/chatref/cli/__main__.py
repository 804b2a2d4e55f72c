from chatref.cli import main

main()
