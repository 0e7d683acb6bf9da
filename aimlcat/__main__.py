from aimlcat._cli import main

main()
