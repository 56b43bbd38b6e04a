"""The shop owner's account (``account``), signed-in sessions and CSRF (``sessions``), the
sign-in throttle (``throttle``) and the instance's secret key (``secret``)."""
