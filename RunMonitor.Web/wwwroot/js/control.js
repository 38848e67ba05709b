// Behaviour for the control views lives here.
