"""UI only: one module per tab. Handlers validate input, call one backend service, format output."""
