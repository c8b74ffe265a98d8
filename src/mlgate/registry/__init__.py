"""The model registry in git tags, in GTO's format (pure core: tag names in, registry state and planned tags out).

    churn-model@v1.4.0        register version v1.4.0 at the tagged commit
    churn-model@v1.4.0!       deregister it
    churn-model#production#3  assign stage production to the version at the tagged commit (3: GTO's counter)
    churn-model#production!#4 unassign it
    churn-model@deprecated    deprecate the artifact

Only annotated tags are events (GTO ignores lightweight ones); events are ordered by the tagger time.
"""
