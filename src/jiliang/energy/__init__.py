"""Energy and carbon metrology (能源计量, 碳计量): pure engines, no I/O beyond the packaged rule data.

- ``rules``: GB 17167 thresholds, equipping rates and accuracy; GB/T 2589 standard-coal coefficients.
- ``review``: a key energy-using unit's metering topology and its GB 17167 review (配备率 computed).
- ``balance``: a parent meter against its children with the tolerance their accuracy allows.
- ``conversion``: consumption to standard coal equivalent (折标准煤), both electricity methods stated.
- ``carbon``: emissions by the calculation method with GUM and Monte Carlo uncertainty.
"""
