# This file is part of Quantus.
# Quantus is free software: you can redistribute it and/or modify it under the terms of the GNU Lesser General Public License as published by the Free Software Foundation, either version 3 of the License, or (at your option) any later version.
# Quantus is distributed in the hope that it will be useful, but WITHOUT ANY WARRANTY; without even the implied warranty of MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE. See the GNU Lesser General Public License for more details.
# You should have received a copy of the GNU Lesser General Public License along with Quantus. If not, see <https://www.gnu.org/licenses/>.
# Quantus project URL: <https://github.com/understandable-machine-intelligence-lab/Quantus>.

# Trimmed by glassbox's bench: only the vendored metrics.
from quantus.metrics.base import Metric
from quantus.metrics.complexity.sparseness import Sparseness
from quantus.metrics.complexity.effective_complexity import EffectiveComplexity
from quantus.metrics.faithfulness.faithfulness_correlation import FaithfulnessCorrelation
from quantus.metrics.randomisation.random_logit import RandomLogit
from quantus.metrics.robustness.max_sensitivity import MaxSensitivity
from quantus.metrics.robustness.local_lipschitz_estimate import LocalLipschitzEstimate
