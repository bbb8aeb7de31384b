"""The SPF preference set: sampling prompts for annotation, Label Studio round trip, cross-annotation with
expert arbitration, priority resolution (Safety > Professionalism > Fluency) and DPO rows."""

from cmedins.preference import labelstudio as labelstudio  # noqa: F401  (registers the formats)
from cmedins.preference import sources as sources  # noqa: F401
