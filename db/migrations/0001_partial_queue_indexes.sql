DROP INDEX "derivation_queue_deployment_idx";--> statement-breakpoint
DROP INDEX "derivation_queue_incident_idx";--> statement-breakpoint
CREATE INDEX "derivation_queue_deployment_idx" ON "derivation_queue" USING btree ("deployment_id") WHERE "derivation_queue"."deployment_id" is not null;--> statement-breakpoint
CREATE INDEX "derivation_queue_incident_idx" ON "derivation_queue" USING btree ("incident_id") WHERE "derivation_queue"."incident_id" is not null;