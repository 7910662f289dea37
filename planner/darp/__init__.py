"""The dial-a-ride problem: model, plans, schedules, insertion, validation and the solver."""
