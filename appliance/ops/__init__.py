"""Running the appliance unattended: the scheduler (``scheduler``), nightly backups (``backup``),
mail (``mailer``), logs (``logs``), one copy per data directory (``instance_lock``), the start-up
checks (``checks``) and the calibration fit's child process (``calibration_fit``)."""
