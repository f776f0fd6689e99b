"""An ``evaluate`` module folder (load it by path); a package only so that installs ship it."""
