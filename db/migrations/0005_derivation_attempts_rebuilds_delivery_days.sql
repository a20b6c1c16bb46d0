CREATE TABLE "delivery_days" (
	"integration_id" text NOT NULL,
	"day" date NOT NULL,
	"status" text NOT NULL,
	"deliveries" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "rebuilt_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "derivation_queue" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "derivation_queue" ADD COLUMN "last_error" text;--> statement-breakpoint
ALTER TABLE "derivation_queue" ADD COLUMN "retry_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "derivation_queue" ADD COLUMN "set_aside_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "rebuilt_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "delivery_days" ADD CONSTRAINT "delivery_days_integration_id_integrations_id_fk" FOREIGN KEY ("integration_id") REFERENCES "public"."integrations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "delivery_days_key" ON "delivery_days" USING btree ("integration_id","day","status");