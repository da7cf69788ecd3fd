"""Metric keys of the attributions analyzer, and the thresholds of its findings."""

LATENT_IMPORTANCE = "latent.importance"
LATENT_INACTIVE_DIMS = "latent.inactive_dims"
LATENT_INACTIVE_FRACTION = "latent.inactive_fraction"
LATENT_TARGET_IMPORTANCE = "latent.importance."  # + target name
LATENT_IG_RELATIVE_DELTA = "latent.ig_relative_delta."  # + target name
PIXEL_SENSITIVITY_MEAN = "generator.pixel_sensitivity_mean"
FIXED_OUTPUT_FRACTION = "generator.fixed_output_fraction"
CONDUCTANCE_LAYER = "generator.conductance_layer"
CONDUCTANCE_TARGET = "generator.conductance_target"
CONDUCTANCE_TOP_UNITS = "generator.conductance_top_units"
CONDUCTANCE_BOTTOM_UNITS = "generator.conductance_bottom_units"
CONDUCTANCE_RELATIVE_DELTA = "generator.conductance_relative_delta"
D_IG_DELTA = "d.ig_delta_mean_abs"
D_IG_RELATIVE_DELTA = "d.ig_relative_delta"
D_ATTENTION_DISTANCE = "d.attention_distance"
D_CENTROID_REAL = "d.attention_centroid_real"
D_CENTROID_FAKE = "d.attention_centroid_fake"
D_GRADCAM_LAYER = "d.gradcam_layer"
D_CLASS_SPREAD = "d.class_attention_spread"
"""Conditional GANs: how differently D looks at the generated samples of each class."""
D_CLASS_SPREAD_REAL = "d.class_attention_spread_real"
D_CLASS_MASS = "d.class_attribution_mass"
"""Conditional GANs: per class, the total of D's mean attribution map on its generated samples."""
D_CLASS_MASS_REAL = "d.class_attribution_mass_real"
D_CLASS_COUNTS = "d.class_counts"

RELATIVE_DELTA_INFO = 0.05
"""IG's completeness error above 5% of the output change (the tolerance Sundararajan et al.
2017 suggest): the attributions are approximate; an info finding."""
RELATIVE_DELTA_WARNING = 0.2
"""Above 20%: even the ranking of the attributions may be unreliable; a warning."""
INACTIVE_WARNING = 0.25
"""A quarter of the latent dimensions or more barely move the output: wasted capacity."""
ATTENTION_DISTANCE_INFO = 0.25
"""D spreads a quarter or more of its attention differently on fakes than on reals."""
FIXED_OUTPUT_LEVEL = 0.05
"""An output value is 'fixed' when its sensitivity is below 5% of the most sensitive one's."""
