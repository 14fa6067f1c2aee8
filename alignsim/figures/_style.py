"""The house style of the figures: the Okabe-Ito palette (colour-blind safe)."""

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
