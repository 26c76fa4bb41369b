// Package action publishes what the actuator did to the cluster as msg.Action messages. It
// publishes in the background, so a slow or unreachable bus delays no write to the cluster;
// it never decides or writes anything itself.
package action
