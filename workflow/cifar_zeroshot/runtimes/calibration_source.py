"""Which images calibrate a model's int8 quantisation: chosen at planning, read by the job.

No image both calibrates and is scored. With a training set (CIFAR-10's, or the synthetic
archive's): a fixed-seed sample of it. Without one (user test sets alone): the last images of
the first test set listed, which every run of that set then leaves out
(config.test_set_plan.TestSetPlan.run_limit stops before them).
"""

from dataclasses import dataclass

import numpy as np

from cifar_zeroshot.core.errors import UserError

CALIBRATION_SEED = 0  # of the training-set sample
TRAINING_SET = "training set"  # image_set of a training-set calibration


@dataclass(frozen=True)
class CalibrationSource:
    """Which images calibrate: ``count`` of the image set at ``path``; ``image_set`` is
    TRAINING_SET (a seeded sample) or a test set's name (its last ``count`` images)."""

    image_set: str
    path: str
    count: int

    def to_params(self) -> dict[str, str | int]:
        return {"image_set": self.image_set, "path": self.path, "count": self.count}

    @classmethod
    def from_params(cls, params: dict[str, str | int]) -> "CalibrationSource":
        return cls(str(params["image_set"]), str(params["path"]), int(params["count"]))

    def indices(self, total: int) -> np.ndarray:
        if self.count > total:
            raise UserError(
                f"int8_calibration_images is {self.count}, but {self.path} holds {total} "
                f"images. Lower int8_calibration_images to at most {total}."
            )
        if self.image_set != TRAINING_SET:
            return np.arange(total - self.count, total)
        rng = np.random.default_rng(CALIBRATION_SEED)
        return np.sort(rng.choice(total, self.count, replace=False))
