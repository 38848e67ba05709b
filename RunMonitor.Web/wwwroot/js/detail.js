// Behaviour for the detail views lives here.
