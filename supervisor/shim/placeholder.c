/* placeholder until the shim lands */
int podvisor_shim_placeholder;
