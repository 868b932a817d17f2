import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useNavigation, useSearchParams } from "@remix-run/react";
import { AuthCard, FormError } from "~/components/auth-card";
import { CsrfInput } from "~/components/csrf-input";
import { FormField } from "~/components/form-field";
import { prisma } from "~/db.server";
import { fieldErrorsFrom } from "~/lib/form";
import { LoginSchema, logIn } from "~/services/auth/accounts.server";
import { requireValidCsrf } from "~/services/auth/csrf.server";
import { getSessionUser, startUserSession } from "~/services/auth/session.server";

export const meta: MetaFunction = () => [{ title: "Log in · Echo" }];

export async function loader({ request }: LoaderFunctionArgs) {
  if (await getSessionUser(request)) throw redirect("/dashboard");
  return null;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const formData = await request.formData();
  await requireValidCsrf(request, formData);
  const values = { email: String(formData.get("email") ?? "") };
  const parsed = LoginSchema.safeParse({ ...values, password: formData.get("password") });
  if (!parsed.success) {
    return data({ values, fieldErrors: fieldErrorsFrom(parsed.error), formError: undefined }, { status: 400 });
  }
  const result = await logIn(prisma, parsed.data, context.clientAddress);
  if (!result.ok) {
    return data(
      { values, fieldErrors: result.fieldErrors ?? {}, formError: result.formError },
      { status: result.status },
    );
  }
  const redirectTo = formData.get("redirectTo");
  return startUserSession(request, result.userId, typeof redirectTo === "string" ? redirectTo : null);
}

export default function LoginPage() {
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const [searchParams] = useSearchParams();
  const errors: Record<string, string | undefined> = actionData?.fieldErrors ?? {};
  return (
    <AuthCard
      title="Log in to Echo"
      footer={
        <>
          New to Echo?{" "}
          <Link to="/signup" className="text-indigo-600 underline">
            Create an account
          </Link>
        </>
      }
    >
      <Form method="post" className="space-y-4" noValidate>
        <CsrfInput />
        <input type="hidden" name="redirectTo" value={searchParams.get("redirectTo") ?? ""} />
        <FormError message={actionData?.formError} />
        <FormField
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          defaultValue={actionData?.values.email}
          error={errors.email}
        />
        <FormField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          error={errors.password}
        />
        <button
          type="submit"
          disabled={navigation.state === "submitting"}
          className="w-full rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500 disabled:opacity-60"
        >
          Log in
        </button>
      </Form>
    </AuthCard>
  );
}
