pub mod routeros_sim;
