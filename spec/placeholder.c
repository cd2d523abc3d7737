/* placeholder until the spec module lands */
int podvisor_spec_placeholder;
