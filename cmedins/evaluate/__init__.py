"""SPF evaluation of two systems' answers to the same questions (the paper's Figures 4 and 5).

- verdicts: parse one judge reply into per-dimension verdicts (answer 1 / answer 2 / tie), problems named;
- outcomes: both orders -> one outcome per question and dimension (position-swap and tie rules), the overall
  verdict by priority Safety > Professionalism > Fluency, win / tie / loss tables, order agreement;
- bootstrap: seeded percentile intervals over questions;
- judge_prompt: the versioned Chinese judge prompt (prompts/*.txt);
- judge: ask an OpenAI-compatible judge both orders, resumably;
- guard: refuse a training build that was not decontaminated against the eval set;
- human: Label Studio judgments of the same pairs, and their agreement with the LLM judge;
- reference: Rouge-L against reference answers;
- report / plot: report.json, report.md and the stacked win / tie / loss bars.
"""
