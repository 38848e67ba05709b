// Behaviour for the admin views lives here.
