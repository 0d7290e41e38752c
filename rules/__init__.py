"""The domain of contact-gateway: policy models, validation and the decision engine.

Pure code: values in, values out. No I/O, no clock reads, no environment.
"""
