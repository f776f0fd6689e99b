"""The runner's stages, one module each, each a function with typed input and output.

``runner.evaluate`` plans the run (tasks, capabilities, data availability, samples) and then, per
task: ``execute`` (requests through the response cache, errors returned) → ``aggregate.score_task``
(scores, output extras such as a cascade's transcript WER, paired statistics; the same call
``rescore`` makes) → ``represent`` (hidden-state analysis, cached like responses) → ``intervene``
→ ``assemble`` (the task's result and sample log). Batching has one owner: ``modgap_eval.batching``.
"""
