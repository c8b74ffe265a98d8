"""Production monitoring: per-window statistics of a production log, judged against the deployed model.

Pure parts only: windows (`windows`), bounded-memory column sketches (`sketches`), the judgement of one window
(`judge`), the history records on branch `mlgate/monitoring` (`history`) and their rendering (`render`). The
log reader and git are adapters; the tracking issue is a driver; `mlgate.steps.monitor` puts them together.
"""
