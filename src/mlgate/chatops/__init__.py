"""ChatOps: `/mlgate <command>` comments on pull requests and issues, parsed strictly and authorized by mlgate.

`commands` is the grammar (pure), `policy` decides who may run what on which event (pure), `replies` words the
answers; the step (`mlgate.steps.chatops`) talks to GitHub and runs the commands through the other steps.
"""
