"""Gated deployment policy (pure core): which refs may deploy, whether a commit's gate passed, what a deployment
records. The deploy command itself (GitHub Deployment, the user's command, the registry tags) is in
`mlgate.steps.deploy`; GitHub and local records are in `mlgate.drivers.deployments`.
"""
